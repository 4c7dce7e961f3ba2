"""Realistic sample exports: a simulated creator population written in every supported format."""
