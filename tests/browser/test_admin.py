"""The admin on a laptop screen (1366×768), logged in, in a real browser."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from devices import services
from devices.models import Device
from tests.factories import OwnerFactory, register_device

pytestmark = pytest.mark.django_db(transaction=True)

OWNERS = [
    "Irkutsk Regional Hydrometeorological Centre",
    "Lyceum No. 2 of Petropavlovsk-Kamchatsky, physics department",
    "Baikal Environmental Monitoring Cooperative",
]
CITIES = ["Petropavlovsk-Kamchatsky", "Санкт-Петербург", "Ust-Kamenogorsk", "Naberezhnye Chelny", "Москва"]
SENSORS = [
    ("temperature", "ESP8266 + DS18B20 waterproof probe"),
    ("humidity", "Bosch BME680 environmental sensor"),
    ("co2", "Sensirion SCD41 photoacoustic CO2"),
    ("luminosity", "TSL2591 high dynamic range light sensor"),
]


@pytest.fixture
def realistic_fleet():
    """40 devices with the long names real fleets have, in every state the list shows."""
    owners = [OwnerFactory(name=name) for name in OWNERS]
    now = timezone.now()
    combos = itertools.islice(itertools.cycle(itertools.product(owners, CITIES, SENSORS)), 40)
    devices = []
    for i, (owner, city, (mtype, model)) in enumerate(combos):
        device = register_device(owner=owner, city=city, measurement_type_slug=mtype, sensor_model=model)
        Device.objects.filter(pk=device.pk).update(last_seen=now - dt.timedelta(minutes=7 * i), is_online=i % 3 != 0)
        if i % 4 == 0:
            services.config_update(device=device, send_interval=300)
        devices.append(device)
    services.devices_deactivate(device_ids=[d.device_id for d in devices[::5]])
    return devices


def test_the_device_list_fits_a_laptop_screen(admin_page, realistic_fleet):
    admin_page.goto("/admin/devices/device/")

    page = admin_page.page
    page.locator("#result_list").wait_for()
    layout = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const results = document.querySelector('#changelist-form .results');
            return {
                rows: table.tBodies[0].rows.length,
                tableWidth: table.scrollWidth,
                resultsWidth: results.clientWidth,
                rightmostHeader: Math.max(...[...table.tHead.rows[0].cells].map(c => c.getBoundingClientRect().right)),
                pageWidth: document.documentElement.scrollWidth,
                viewport: window.innerWidth,
            };
        }"""
    )

    assert layout["viewport"] == 1366 and layout["rows"] == 40
    assert layout["tableWidth"] <= layout["resultsWidth"], layout  # no column behind a scrollbar
    assert layout["rightmostHeader"] <= layout["viewport"], layout
    assert layout["pageWidth"] <= layout["viewport"], layout  # the page does not scroll sideways
    admin_page.assert_clean()


def test_the_device_list_searches_by_city_slug_in_the_browser(admin_page, realistic_fleet):
    admin_page.goto("/admin/devices/device/")

    page = admin_page.page
    page.get_by_role("textbox", name="Search").fill("moskva")
    page.get_by_role("button", name="Search").click()
    page.locator("#result_list").wait_for()

    cities = page.locator("#result_list td.field-city").all_inner_texts()
    assert cities and set(cities) == {"Москва"}
    assert len(cities) == sum(1 for d in realistic_fleet if d.city == "Москва")
    admin_page.assert_clean()
