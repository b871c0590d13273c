"""The synthesis chapter: every paper's diagnostic on every paper's networks. The one folder that
imports the other papers' folders."""
