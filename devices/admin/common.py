"""What the admin pages of the registry share: send-interval limits, counts."""

from devices.models import SEND_INTERVAL_MAX, SEND_INTERVAL_MIN

SEND_INTERVAL_HELP = f"Seconds between two messages: {SEND_INTERVAL_MIN} to {SEND_INTERVAL_MAX:,} (one day)."


class SendIntervalLimits:
    """Every send-interval input says its limits and the browser enforces them (min/max of the
    number input); the model's validators alone give the input no max and min 0."""

    SEND_INTERVAL_FIELDS = ("send_interval", "default_send_interval")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.SEND_INTERVAL_FIELDS:
            kwargs.update(min_value=SEND_INTERVAL_MIN, max_value=SEND_INTERVAL_MAX)
            # The config's own help text is just "Seconds."; an owner's says what empty means.
            own = db_field.help_text if db_field.name == "default_send_interval" else ""
            kwargs["help_text"] = f"{own} {SEND_INTERVAL_HELP}".strip()
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def devices_counted(count: int) -> str:
    return f"{count} device" if count == 1 else f"{count} devices"
