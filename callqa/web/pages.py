"""Pages that show things."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
