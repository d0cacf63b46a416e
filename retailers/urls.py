from django.urls import path

from retailers import views

app_name = "retailers"
urlpatterns = [
    path("", views.retailer_list, name="list"),
    path("<int:pk>/", views.retailer_detail, name="detail"),
    path("summary/", views.district_summary, name="district-summary"),
]
