"""The writers' Gradio app (see :mod:`drafting.ui.app`)."""
