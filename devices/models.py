import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from config.models import ChangeStamped
from devices import topics

SEND_INTERVAL_MIN = 1
SEND_INTERVAL_MAX = 86_400
QOS_CHOICES = [(0, "0 — at most once"), (1, "1 — at least once"), (2, "2 — exactly once")]

LOCATION_PAIR_MESSAGE = "Give latitude and longitude together, or neither (the location is then unknown)."

send_interval_validators = [MinValueValidator(SEND_INTERVAL_MIN), MaxValueValidator(SEND_INTERVAL_MAX)]


class Owner(models.Model):
    """A company that owns devices; its slug is the first level of every topic."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    provisioning_secret_digest = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_digest = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    allow_secretless_registration = models.BooleanField(
        default=False,
        help_text="Accept registrations without a provisioning secret (devices flashed with the "
        "original course firmware, which sends none).",
    )
    default_send_interval = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=send_interval_validators,
        help_text="Send interval (s) for new devices of this owner; empty = the measurement type's.",
    )
    default_qos = models.PositiveSmallIntegerField(null=True, blank=True, choices=QOS_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.name


class MeasurementType(models.Model):
    """What a sensor measures. Admins add new types here; no code change is needed."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=32, blank=True)
    default_send_interval = models.PositiveIntegerField(null=True, blank=True, validators=send_interval_validators)
    default_qos = models.PositiveSmallIntegerField(null=True, blank=True, choices=QOS_CHOICES)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.name


class Device(models.Model):
    device_id = models.CharField(
        max_length=16,
        primary_key=True,
        editable=False,
        help_text="First 16 hex characters of SHA-256 of the canonical MAC address.",
    )
    mac_address = models.CharField(max_length=17, unique=True, editable=False)
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="devices")
    measurement_type = models.ForeignKey(MeasurementType, on_delete=models.PROTECT, related_name="devices")
    sensor_model = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, db_index=True)
    # Both empty when the location is unknown (the original firmware may send none); never invented.
    latitude = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text="Empty, with longitude, when the location is unknown.",
    )
    longitude = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text="Empty, with latitude, when the location is unknown.",
    )
    height = models.FloatField(null=True, blank=True, help_text="Metres; sent by the original firmware.")
    is_active = models.BooleanField(default=True)
    key_digest = models.CharField(max_length=64, blank=True, editable=False)
    # Indexed: the device lists (admin, API) are ordered by it.
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_seen = models.DateTimeField(null=True, blank=True, editable=False)
    is_online = models.BooleanField(
        default=True,
        editable=False,
        help_text="Cleared when the device stays silent too long (DEVICES_OFFLINE_AFTER_SECONDS).",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "measurement_type"]),
            # The offline detector scans online devices by how long they have been silent.
            models.Index(fields=["last_seen"], name="devices_online_last_seen_idx", condition=models.Q(is_online=True)),
        ]
        constraints = [
            # Half a coordinate is no location.
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="devices_device_location_pair",
                violation_error_message=LOCATION_PAIR_MESSAGE,
            ),
        ]

    def __str__(self):
        return self.device_id

    @property
    def location_known(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def base_topic(self) -> str:
        return topics.base_topic(
            owner=self.owner.slug,
            city=self.city,
            measurement_type=self.measurement_type.slug,
            device_id=self.device_id,
        )

    @property
    def topics(self) -> dict:
        return topics.device_topics(self.base_topic)


class DeviceConfig(ChangeStamped):
    # updated_at / updated_by (ChangeStamped): when and by whom the config last changed.
    device = models.OneToOneField(Device, on_delete=models.CASCADE, primary_key=True, related_name="config")
    send_interval = models.PositiveIntegerField(validators=send_interval_validators, help_text="Seconds.")
    qos = models.PositiveSmallIntegerField(choices=QOS_CHOICES, verbose_name="MQTT QoS")
    version = models.PositiveIntegerField(default=1, editable=False)
    applied_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    applied_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "config"

    def __str__(self):
        return f"config v{self.version} of {self.device_id}"

    @property
    def is_applied(self) -> bool:
        return self.applied_version == self.version


class ConfigChange(models.Model):
    """A device's one history: its config changes (who changed what, old → new, the version it
    made) and the moves of its topics (its owner, city or measurement type changed, so the base
    topic did: old → new topic), from every path that changes them."""

    class Kind(models.TextChoices):
        CONFIG = "config", "config"
        TOPIC = "topic", "topic move"

    class Source(models.TextChoices):
        REGISTRATION = "registration", "registration"
        API = "api", "API"
        ADMIN = "admin", "admin"
        BULK = "bulk", "bulk action"
        LEGACY = "legacy", "legacy API"
        TELEGRAM = "telegram", "Telegram"

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="config_changes")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CONFIG)
    version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The config version a config change made; empty for a topic move."
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    actor = models.CharField(
        max_length=200,
        blank=True,
        help_text='Who made the change when it was no user of the hub, e.g. "Telegram user @name".',
    )
    old = models.JSONField(default=dict)
    new = models.JSONField(default=dict)

    class Meta:
        verbose_name = "history entry"
        verbose_name_plural = "history"
        ordering = ["-changed_at", "-id"]
        indexes = [
            # The device page shows the newest entries of one device.
            models.Index(fields=["device", "-changed_at"], name="devices_history_device_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="config") | models.Q(version__isnull=False),
                name="devices_history_config_has_version",
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.TOPIC:
            return f"{self.device_id} moved"
        return f"{self.device_id} v{self.version}"


class DeviceEvent(models.Model):
    """Outbox of device events: written in the same transaction as the change it describes,
    handed on by a Celery task after commit, re-enqueued by beat if the hand-off was lost."""

    class Kind(models.TextChoices):
        REGISTERED = "device.registered"
        CONFIG_CHANGED = "device.config_changed"
        CONFIG_APPLIED = "device.config_applied"
        OFFLINE = "device.offline"
        ONLINE = "device.online"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    device = models.ForeignKey(Device, null=True, on_delete=models.SET_NULL, related_name="events")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], name="devices_event_pending_idx", condition=models.Q(dispatched_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.payload.get('device_id', '')}"


class StaleDeliveryRecord(models.Model):
    """A device whose cached delivery record a change could not drop: the cache was unreachable
    when the change committed. Dropped by `devices.tasks.retry_delivery_invalidations` (beat)
    once the cache answers again, so no stale key, config or topic outlives the outage."""

    device_id = models.CharField(max_length=16, primary_key=True)
    noted_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.device_id
