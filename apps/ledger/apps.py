from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "apps.ledger"
    label = "ledger"
    verbose_name = "Ledger"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Every app declares the events it writes in its own events.py (see
        # apps/ledger/events.py); importing them all here makes the vocabulary complete
        # before the first write, and docs/events.md is rendered from it.
        autodiscover_modules("events")
