"""What the cache raises when Redis cannot be reached (django-redis re-raises redis-py's own
errors; a socket may fail below it). Code on a request path catches exactly these: the cache
being down makes it slower, never wrong and never a 500."""

import redis

CACHE_ERRORS = (redis.RedisError, OSError)
