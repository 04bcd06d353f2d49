"""`.env.example` documents every variable the hub reads, so a sysadmin finds each in one place."""

import re

from django.conf import settings

# Where variables are read: the settings, gunicorn's config, and the few modules that read the
# environment at run time.
READERS = ["config/settings.py", "config/gunicorn.conf.py", "config/metrics.py", "integrations/outbound/metrics.py"]
READ = re.compile(r'(?:env(?:\.\w+)?|os\.environ\.get|_env_int)\(\s*"([A-Z][A-Z0-9_]+)"')
# Read by a server itself rather than by our code.
READ_BY_SERVERS = {"FORWARDED_ALLOW_IPS"}


def test_every_variable_the_hub_reads_is_in_the_example():
    read = set(READ_BY_SERVERS)
    for path in READERS:
        read |= set(READ.findall((settings.BASE_DIR / path).read_text()))
    example = (settings.BASE_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))

    assert len(read) > 80
    assert sorted(read - documented) == []
