"""The bots' management API under /api/v1/bots/ (token or session auth, model permissions):
invitations (made, listed, revoked — the token and its link only in the answer that makes one)
and bot users (listed, their role, owner, language and state changed, deleted)."""

import datetime as dt

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from bots import invitations, services
from bots.api import serializers
from bots.models import BotUser, Invitation, Role
from bots.qr import qr_svg
from config.errors import DomainError
from config.permissions import user_with_permission

NOT_FOUND = OpenApiResponse(description="No such object (or not yours to see).")
BAD_INPUT = OpenApiResponse(description="Invalid input: the fields and why, as JSON.")

CanRevokeInvitation = user_with_permission("bots.change_invitation", "You need the 'change invitation' permission.")


class InvitationFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug", help_text="The owner's slug.")
    role = django_filters.ChoiceFilter(choices=[(role, role) for role in serializers.INVITATION_ROLES])
    revoked = django_filters.BooleanFilter(
        field_name="revoked_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: the revoked ones; false: the others.",
    )

    class Meta:
        model = Invitation
        fields = ["owner", "role", "revoked"]


@extend_schema_view(
    list=extend_schema(summary="Invitations (never their tokens)"),
    retrieve=extend_schema(summary="One invitation", responses={200: serializers.InvitationSerializer, 404: NOT_FOUND}),
)
@extend_schema(tags=["bots"])
class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations give a chat an owner's devices with a role. Revoking one (DELETE) keeps its
    record; chats it already let in keep their access (change their bot user to take it away)."""

    serializer_class = serializers.InvitationSerializer
    filterset_class = InvitationFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["created_at", "expires_at"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return Invitation.objects.select_related("owner", "created_by").order_by("-created_at", "-id")

    def get_permissions(self):
        if self.action == "destroy":
            return [CanRevokeInvitation()]
        return super().get_permissions()

    @extend_schema(
        summary="Make an invitation: its token, deep link and QR code are in this answer only",
        description="Only the token's digest is stored: the `token`, `link` and `qr_svg` of the answer "
        "cannot be had again. Without TELEGRAM_BOT_USERNAME the invitation is still made, with `link` and "
        "`qr_svg` null and `detail` saying so: the chat can send the bot `/start <token>` itself.",
        request=serializers.InvitationCreateInputSerializer,
        responses={201: serializers.InvitationCreatedSerializer, 400: BAD_INPUT},
    )
    def create(self, request, *args, **kwargs):
        data = serializers.InvitationCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        invitation, token = invitations.invitation_create(
            owner=fields["owner"],
            role=fields["role"],
            created_by=request.user,
            lifetime=dt.timedelta(seconds=fields["expires_in"]),
            max_uses=fields["max_uses"],
            note=fields["note"],
        )
        try:
            link, detail = invitations.invitation_link(token), None
        except DomainError as exc:
            link, detail = None, exc.detail
        invitation.token, invitation.link, invitation.detail = token, link, detail
        invitation.qr_svg = qr_svg(link) if link else None
        return Response(serializers.InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke an invitation (it lets no more chats in; the record stays)",
        description="Needs the 'change invitation' permission. Revoking a revoked invitation is a no-op.",
        responses={204: None, 404: NOT_FOUND},
    )
    def destroy(self, request, *args, **kwargs):
        invitations.invitation_revoke(invitation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BotUserFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug", help_text="The owner's slug.")
    role = django_filters.ChoiceFilter(choices=Role.choices)
    platform = django_filters.ChoiceFilter(choices=BotUser.Platform.choices)
    chat_type = django_filters.ChoiceFilter(choices=BotUser.ChatType.choices)

    class Meta:
        model = BotUser
        fields = ["owner", "role", "platform", "chat_type", "is_active", "sees_all_owners"]


@extend_schema_view(
    list=extend_schema(summary="Bot users (the chats that talk to the bot)"),
    retrieve=extend_schema(summary="One bot user", responses={200: serializers.BotUserSerializer, 404: NOT_FOUND}),
    destroy=extend_schema(
        summary="Delete a bot user (its follows and subscriptions; what it was sent stays, without its chat id)",
        responses={204: None, 404: NOT_FOUND},
    ),
)
@extend_schema(tags=["bots"])
class BotUserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Bot users come from the chats (`/start`); staff give them a role and an owner here (or by
    an invitation), set their language, and deactivate or delete them."""

    serializer_class = serializers.BotUserSerializer
    filterset_class = BotUserFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, SearchFilter, OrderingFilter]
    search_fields = ["username", "display_name", "=chat_id"]
    ordering_fields = ["created_at", "last_seen_at"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return (
            BotUser.objects.select_related("owner")
            .prefetch_related("followed", "subscriptions")
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        summary="Change a bot user's role, owner, language or state",
        description="A manager or administrator needs an owner, unless it sees all owners. Setting "
        "`is_active` true again clears `last_error`.",
        request=serializers.BotUserUpdateInputSerializer,
        responses={200: serializers.BotUserSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def partial_update(self, request, *args, **kwargs):
        bot_user = self.get_object()
        data = serializers.BotUserUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.bot_user_update(bot_user=bot_user, **data.validated_data)
        return Response(serializers.BotUserSerializer(self.get_object()).data)

    def perform_destroy(self, instance):
        services.bot_user_forget(bot_user=instance)
