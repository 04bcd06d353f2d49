"""Names that frameworks call or read by name, so vulture (`make lint`) does not report them as dead.

Vulture matches names, not objects: an entry here keeps every definition of that name alive. Keep
each entry next to the framework that uses it; add one only for a name a framework really calls,
and delete the entries of the last section together with the code they keep.
This file is parsed by vulture, never imported.
"""

_ = object()  # the receiver of the attribute names below

# --- Django admin: ModelAdmin/InlineModelAdmin options and hooks, AdminSite options, list filters.
_.site_header, _.site_title, _.index_title, _.enable_nav_sidebar  # AdminSite
_.list_display, _.list_select_related, _.list_filter, _.search_fields, _.search_help_text  # ModelAdmin
_.raw_id_fields, _.prepopulated_fields, _.show_full_result_count, _.fieldsets, _.inlines, _.date_hierarchy
_.actions, _.max_num  # ModelAdmin.actions; InlineModelAdmin.max_num
_.get_fields, _.get_readonly_fields, _.get_inlines, _.get_search_results, _.response_add
_.save_model, _.delete_model, _.delete_queryset, _.has_add_permission, _.has_delete_permission
# admin.action(permissions=[...]) makes the admin call has_<permission>_permission.
_.has_reprocess_permission, _.has_clear_outbound_cache_permission
_.parameter_name, _.lookups  # SimpleListFilter
_.can_add_related  # RelatedFieldWidgetWrapper reads it to show the "+" link
_.show_change_link  # InlineModelAdmin option
_.new_objects  # the admin's change message reads formset.new_objects after save_formset
_.clean_name  # Django forms call clean_<field>

# --- Declared fields that a metaclass collects by name: forms, DRF serializers, django-filter FilterSets.
_.value_input, _.clear_value  # forms (integrations/admin/settings.py)
_.telemetry, _.password, _.lat, _.lon, _.topic, _.data_cadence, _.last_updated  # serializers (devices)
_.temperature, _.is_known, _.cleared, _.expire_previous_in_seconds, _.previous_secrets  # serializers
_.is_global  # CredentialFilter.is_global (a FilterSet field)
_.lifetime_days, _.lifetime_hours, _.expires_in, _.followed_devices  # bots: admin form, serializers
_.read_only_fields, _.extra_kwargs, _.default_error_messages, _.validate  # serializer Meta/hooks
# SerializerMethodField calls get_<field>.
_.get_error, _.get_is_secret, _.get_is_known, _.get_value, _.get_source, _.get_default, _.get_secret, _.get_url
_.get_state, _.get_followed_devices, _.get_subscriptions  # bots serializers

# --- Django models: fields and Meta options, read by the ORM through the metaclass. Services assign
# the fields below and save them with update_fields=["..."]; admin and serializers name them in strings.
_.abstract, _.ordering, _.indexes, _.constraints, _.verbose_name, _.verbose_name_plural, _.default_auto_field
_.secret_rotated_at, _.unit, _.applied_at, _.changed_at, _.dispatched_at, _.noted_at
_.secret_changed_at, _.attention_reason, _.attention_at, _.integration_version, _.finished_at
_.result_summary, _.body_truncated, _.processed_at
_.last_seen_at, _.token_digest  # bots: written as keyword arguments of update()/create()
# Members of choices (TextChoices/StrEnum): valid stored values and API choices, listed by iteration.
_.DEVICE_CONFIG_CHANGED, _.DEVICE_CONFIG_APPLIED, _.DEVICE_OFFLINE, _.DEVICE_ONLINE  # Connection event kinds
_.INT, _.FLOAT, _.BOOL, _.URL, _.JSON, _.SECRET  # Setting.Type
_.CHANNEL  # BotUser.ChatType: a chat type Telegram sends, never set by the hub itself
_.AI, _.MAPS, _.CRM, _.ECOMMERCE, _.EDUCATION, _.MEDICINE, _.NEWS, _.TRANSLATION  # integrations Category

# --- Django: apps (INSTALLED_APPS), URLconfs, middleware (MIDDLEWARE), checks, management commands.
_.BotsConfig, _.SwitchboardConfig, _.DevicesConfig, _.IntegrationsConfig, _.ready
_.urlpatterns, _.handler400, _.handler403, _.handler404, _.handler500  # ROOT_URLCONF / include()
_.RequestGuardMiddleware
_.Command, _.help, _.add_arguments, _.handle  # manage.py secrets_reencrypt
_.lockout_response  # django-axes: AXES_LOCKOUT_CALLABLE
_.has_perms  # the Django user protocol: DjangoModelPermissions calls request.user.has_perms

# --- DRF: view, authentication, filter, pagination and permission hooks (settings name the classes).
_.authentication_classes, _.permission_classes, _.renderer_classes, _.parser_classes, _.serializer_class
_.filter_backends, _.filterset_class, _.filterset_fields, _.ordering_fields, _.lookup_field, _.lookup_value_regex
_.put, _.patch, _.perform_destroy, _.perform_update, _.get_exception_handler  # APIView dispatch
_.destroy  # a viewset's DELETE action (bots' invitations: revoke)
_.accepted_renderer, _.accepted_media_type  # set on the request for finalize_response
_.authenticate_header  # 401 WWW-Authenticate
_.filter_queryset, _.to_html, _.search_description  # filter backend (browsable API, OpenAPI)
_.BoundedLimitOffsetPagination, _.max_limit  # REST_FRAMEWORK DEFAULT_PAGINATION_CLASS
_.ModelPermissions  # REST_FRAMEWORK DEFAULT_PERMISSION_CLASSES

# --- drf-spectacular: OpenApiAuthenticationExtension subclasses register themselves.
_.DeviceKeyScheme, _.ApiTokenScheme, _.target_class, _.get_security_definition

# --- Channels: AsyncJsonWebsocketConsumer hooks; a group message of type "device.event" calls device_event.
_.disconnect, _.receive_json, _.device_event

# --- prometheus_client collectors (registry.register calls collect), python-telegram-bot's BaseRequest.
_.collect, _.do_request

# --- Integrations register by subclassing BaseIntegration (__init_subclass__), found by autodiscover().
_.LatestRates, _.Repository, _.CurrentWeather, _.SendMessage

# --- gunicorn: every name of config/gunicorn.conf.py is a setting or a server hook.
_.bind, _.workers, _.worker_class, _.graceful_timeout, _.keepalive, _.max_requests, _.max_requests_jitter
_.worker_tmp_dir, _.control_socket_disable, _.limit_request_line, _.limit_request_field_size
_.limit_request_fields, _.accesslog, _.errorlog, _.logger_class, _.loglevel, _.proc_name
_.when_ready, _.post_worker_init, _.child_exit
_.GunicornLogger  # logger_class = "config.gunicorn_logging.GunicornLogger"
_.write_error  # gunicorn_errors.install() replaces gunicorn.util.write_error, which gunicorn calls

# --- http.server (the bench's fake services): BaseHTTPRequestHandler/ThreadingHTTPServer options and hooks.
_.protocol_version, _.server_version, _.disable_nagle_algorithm, _.log_message, _.do_GET, _.do_POST
_.daemon_threads, _.request_queue_size
_.handlers  # logging.Logger.handlers (bench/integrations/outbound_bench.py)

# --- Arguments a caller passes whatever we do with them (signatures fixed by the framework).
_.app_configs, _.options, _.perms, _.post_url_continue, _.mesg, _.original_response, _.auto_schema, _.exc_info

# --- Called by the tests only, on purpose: what a service reports or a hook a test needs.
_.executed  # RunPerformed.executed: whether a perform ran the integration (tests of exactly-once)
_.isolated  # IntegrationRegistry.isolated: integrations a test defines are forgotten after it
_.setting_set  # setting a value by key, the way tests (and a shell) set one; the API goes by row
_.forget_seen  # WebhookInbox.forget_seen: a test makes a delivery id's dedupe window pass at once
