from django.urls import path

from settlement import views, views_analytics

app_name = "settlement"
urlpatterns = [
    path("orders/", views.order_list, name="order-list"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/import/", views.order_import, name="order-import"),
    path("orders/import/<int:pk>/apply/", views.order_import_apply, name="order-import-apply"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/retry/", views.order_retry, name="order-retry"),
    path("balances/import/", views.balance_import, name="balance-import"),
    path(
        "balances/import/<int:pk>/apply/",
        views.balance_import_apply,
        name="balance-import-apply",
    ),
    path("accounts/<int:pk>/reveal/", views.account_reveal, name="account-reveal"),
    path("reminders/", views.reminder_list, name="reminder-list"),
    path("reminders/<int:pk>/helped/", views.reminder_helped, name="reminder-helped"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("rebates/", views.rebate_report, name="rebate-report"),
    # The half-year report (DESIGN §2.6).
    path("analytics/sales/", views_analytics.sales, name="sales"),
    path("analytics/sales/export.<str:fmt>", views_analytics.sales_export, name="sales-export"),
    path("analytics/channels/", views_analytics.channels, name="channels"),
    path("targets/", views_analytics.target_list, name="targets"),
    path("targets/new/", views_analytics.target_create, name="target-create"),
    path("targets/<int:pk>/edit/", views_analytics.target_edit, name="target-edit"),
    path("targets/<int:pk>/delete/", views_analytics.target_delete, name="target-delete"),
]
