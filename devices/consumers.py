from channels.generic.websocket import AsyncJsonWebsocketConsumer

from devices.live import LIVE_GROUP


class DeviceEventsConsumer(AsyncJsonWebsocketConsumer):
    """Live feed of device events for staff (session auth); anyone else is refused."""

    async def connect(self):
        user = self.scope.get("user")
        if not (user and user.is_authenticated and user.is_staff):
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(LIVE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(LIVE_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The feed is one-way; ignore whatever the client sends.
        return

    async def device_event(self, message):
        await self.send_json(
            {"event": message["event"], "id": message["id"], "at": message["at"], "data": message["data"]}
        )
