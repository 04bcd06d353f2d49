from django.db import migrations

MEASUREMENT_TYPES = [
    ("temperature", "Temperature", "°C"),
    ("humidity", "Humidity", "%"),
    ("pressure", "Pressure", "hPa"),
    ("luminosity", "Luminosity", "lx"),
    ("co2", "CO₂", "ppm"),
    ("motion", "Motion", ""),
    ("voltage", "Voltage", "V"),
]


def create_types(apps, schema_editor):
    MeasurementType = apps.get_model("devices", "MeasurementType")
    for slug, name, unit in MEASUREMENT_TYPES:
        MeasurementType.objects.get_or_create(slug=slug, defaults={"name": name, "unit": unit})


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial")]
    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]
