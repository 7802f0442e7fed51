"""The daily digest: profiles and subscriptions, ranking, and exactly-once posting (no Discord here)."""
