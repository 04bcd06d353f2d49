"""gunicorn's logger, with the webhook receiver's URL token masked (config/logging.py).

gunicorn writes its access log (GUNICORN_ACCESS_LOG) and its error log through two loggers of
its own that do not propagate to Django's handlers; the request line, with the token, is in
both ("Error handling request /api/v1/webhooks/…/", "Invalid request from ip=…"). The same
filter that settings.LOGGING puts on Django's handlers goes on them.

    logger_class = "config.gunicorn_logging.GunicornLogger"   # config/gunicorn.conf.py
"""

from gunicorn import glogging

from config.logging import WebhookTokenFilter


class GunicornLogger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        # setup() runs again on every configuration reload (SIGHUP): one filter per logger.
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, WebhookTokenFilter) for existing in log.filters):
                log.addFilter(WebhookTokenFilter())
