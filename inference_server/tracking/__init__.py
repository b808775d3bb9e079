"""Identities across frames: the tracker knows poses and boxes, nothing about models."""
