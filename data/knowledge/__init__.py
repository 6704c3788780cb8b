"""The demo's knowledge base: ``kb_seed.yaml``, loaded with the demo city (``scripts.loading.load_city``)
and by ``heattwin kb import``. Written for a northern city of the demo (本市); prices, dates and phone
numbers are the demo's, not any real utility's."""

from pathlib import Path

SEED_FILE = Path(__file__).parent / "kb_seed.yaml"
