"""Tests of the deploy layer: runtime drivers, images and the example server."""
