"""Clarion: the shared package every Lambda function imports (deployed as a layer)."""
