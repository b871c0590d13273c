"""One folder per paper of the book (and the synthesis), named as its chapter in ``book/notebooks/``."""
