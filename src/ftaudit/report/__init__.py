"""Output formats; each takes a ScanResult and returns text."""
