"""Builders and constants the tests share: plain functions, classes and values, no fixtures and no tests.

A test module takes its builders from here and its fixtures from the nearest conftest.py; it never imports
another test module (tests/test_architecture.py checks it)."""
