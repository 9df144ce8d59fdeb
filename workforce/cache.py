"""The Redis cache backend, keeping its Redis client between operations.

Django's ``RedisCache`` builds a new ``redis.Redis`` for every operation, which
costs about as much CPU as the round trip to Redis itself; a page reads the
cache several times (session, estimate, chart). The client only wraps the
connection pool, which Django already keeps, so one client per pool serves
every operation. A cache backend is per thread in Django, like its pools.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
