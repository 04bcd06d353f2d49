FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt

COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --home /app switchboard \
    && mkdir -p /tmp/prometheus && chown switchboard /tmp/prometheus
USER switchboard

EXPOSE 8000 8001
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.conf.py"]
