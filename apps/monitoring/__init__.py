"""Post-market monitoring (Art. 72): policies, drift and performance reports, alerts,
their notifications (e-mail and signed webhooks) and retraining triggers."""
