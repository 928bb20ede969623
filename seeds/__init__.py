"""The bundled trending-paper pages, shipped as package data."""
