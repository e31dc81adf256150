"""Shared by every concern: the known grains and the Postgres connection settings."""
