test_http_DEPS := src/api/http.c
