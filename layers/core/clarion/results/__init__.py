"""Outcomes -> exact, cheap, pollable status."""
