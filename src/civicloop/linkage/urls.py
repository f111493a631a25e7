"""Pages of the clerical review queue, in the "linkage" namespace."""

from django.urls import path

from civicloop.linkage import views

app_name = "linkage"
urlpatterns = [
    path("review/", views.review_list, name="review_list"),
    path("review/<int:review_item_id>/", views.review_detail, name="review_detail"),
    path("review/<int:review_item_id>/decide/", views.review_decide, name="review_decide"),
]
