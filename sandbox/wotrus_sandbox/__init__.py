"""The WoTrus sandbox."""
