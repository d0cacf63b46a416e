from django.urls import path

from visits import views, views_analytics
from visits.programs import views as programs

app_name = "visits"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("find/", views.find_retailer, name="find"),
    path("retailers/<int:pk>/", views.retailer_card, name="card"),
    path("retailers/<int:pk>/check-in/", views.check_in, name="check-in"),
    path("retailers/<int:pk>/emergency/", views.emergency_request, name="emergency"),
    path("<int:pk>/", views.visit_detail, name="visit"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/<int:star>/", views.policy_edit, name="policy-edit"),
    path("plan/", views.plan, name="plan"),
    path("plan/run/", views.plan_run, name="plan-run"),
    path("plan/add/", views.plan_add, name="plan-add"),
    path("plan/<int:pk>/move/", views.plan_move, name="plan-move"),
    path("<int:pk>/programs/", programs.visit_review, name="visit-review"),
    path("trainings/", programs.training_list, name="trainings"),
    path("trainings/new/", programs.training_create, name="training-create"),
    path("trainings/summary/", programs.training_summary, name="training-summary"),
    path("trainings/<int:pk>/", programs.training_detail, name="training"),
    path("programs/", programs.program_list, name="programs"),
    path("programs/enrol/", programs.program_enrol, name="program-enrol"),
    path("programs/overview/", programs.program_overview, name="program-overview"),
    path("programs/criteria/", programs.program_criteria, name="program-criteria"),
    path(
        "programs/criteria/<int:pk>/",
        programs.program_criterion_edit,
        name="program-criterion-edit",
    ),
    path("programs/<int:pk>/withdraw/", programs.program_withdraw, name="program-withdraw"),
    path("compliance/", views.compliance, name="compliance"),
    path("stock/", views_analytics.stock, name="stock"),
    path(
        "compliance/summary.csv",
        views.compliance_csv,
        {"part": "summary"},
        name="compliance-summary-csv",
    ),
    path(
        "compliance/missed.csv",
        views.compliance_csv,
        {"part": "missed"},
        name="compliance-missed-csv",
    ),
]
