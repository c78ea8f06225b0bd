from django.urls import path

from users.apis import UserLoginApi, UserLogoutApi, UserMeApi, UserRegisterApi

urlpatterns = [
    path("register", UserRegisterApi.as_view(), name="auth-register"),
    path("login", UserLoginApi.as_view(), name="auth-login"),
    path("logout", UserLogoutApi.as_view(), name="auth-logout"),
    path("me", UserMeApi.as_view(), name="auth-me"),
]
