"""The device list's filters (`?owner=&measurement_type=&city=&is_active=`), applied by
`devices.selectors.device_list`; the management API documents them from this FilterSet."""

import django_filters

from devices.models import Device


class DeviceFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug")
    measurement_type = django_filters.CharFilter(field_name="measurement_type__slug")
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    # A typed choice, so that `?is_active=maybe` is a 400 rather than silently no filter.
    is_active = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )

    class Meta:
        model = Device
        fields = ["owner", "measurement_type", "city", "is_active"]
