"""The README's results section, plots and the stability record."""
