"""/api/v1/bots/: invitations and bot users."""

from rest_framework.routers import SimpleRouter

from bots.api import views

router = SimpleRouter()
router.register("invitations", views.InvitationViewSet, basename="bot-invitation")
router.register("bot-users", views.BotUserViewSet, basename="bot-user")

urlpatterns = router.urls
