fuzz_http_DEPS := src/api/http.c
