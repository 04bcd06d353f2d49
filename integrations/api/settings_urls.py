from rest_framework.routers import SimpleRouter

from integrations.api import settings_views

router = SimpleRouter()
router.register("integration-settings", settings_views.IntegrationSettingViewSet, basename="integration-setting")
router.register(
    "integration-credentials", settings_views.IntegrationCredentialViewSet, basename="integration-credential"
)

urlpatterns = router.urls
