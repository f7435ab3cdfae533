"""What the model reads: versioned prompt templates (``templates.py``) and the slot texts their placeholders
render (``slot_text.py``)."""
