"""Distillation lab: students, losses and schedules for smaller, faster copies of seoga's models."""
