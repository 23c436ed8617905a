"""Executing workflows: resolve recipients, run steps, render, report outcomes."""
