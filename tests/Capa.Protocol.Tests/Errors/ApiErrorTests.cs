using System.Text;
using System.Text.Json;

namespace Capa.Protocol.Tests.Errors;

public class ApiErrorTests
{
    [Fact]
    public void Writes_openai_shape_with_null_param_and_code()
    {
        JsonAssert.Equal(
            """{"error":{"message":"m","type":"invalid_request_error","param":null,"code":null}}""",
            ApiError.InvalidRequest("m", null).ToUtf8Json());
        JsonAssert.Equal(
            """{"error":{"message":"bad","type":"invalid_request_error","param":"messages[0].role","code":"invalid_value"}}""",
            ApiError.InvalidRequest("bad", "messages[0].role", "invalid_value").ToUtf8Json());
    }

    [Fact]
    public void Wire_object_and_writer_agree()
    {
        var error = ApiError.ModelNotFound("nope");
        JsonAssert.Equal(
            JsonSerializer.Serialize(error.ToResponse(), CapaJsonContext.Default.ErrorResponse),
            error.ToUtf8Json());
    }

    [Fact]
    public void Model_not_found_uses_openai_words()
    {
        var error = ApiError.ModelNotFound("gpt-5-turbo");
        Assert.Equal(404, error.Status);
        Assert.Equal("The model `gpt-5-turbo` does not exist or you do not have access to it.", error.Message);
        Assert.Equal("model_not_found", error.Code);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Null(error.Param);
    }

    [Fact]
    public void Echoed_client_text_is_bounded_and_printable()
    {
        var error = ApiError.ModelNotFound(new string('x', 10_000) + "\n");
        Assert.True(error.Message.Length < 400);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\u0001', ApiError.UnknownUrl("GET", "/v1/\u0001x").Message);
    }

    [Fact]
    public void Wrong_key_is_masked()
    {
        const string key = "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPyz";
        var error = ApiError.InvalidApiKey(key);
        Assert.Equal(401, error.Status);
        Assert.Equal("invalid_api_key", error.Code);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.StartsWith("Incorrect API key provided: sk-ab***yz.", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cdefgh", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "***")]
    [InlineData("abc", "***")]
    [InlineData("abcdefgh", "ab***")]
    [InlineData("sk-1234567890AB", "sk***B")]
    public void Masking_never_shows_more_than_a_quarter(string key, string expected)
    {
        var masked = ApiError.MaskKey(key);
        Assert.Equal(expected, masked);
        Assert.True(masked.Replace("***", "", StringComparison.Ordinal).Length <= key.Length / 4);
    }

    [Fact]
    public void Missing_key_gets_the_didnt_provide_message()
    {
        foreach (var error in new[] { ApiError.MissingApiKey(), ApiError.InvalidApiKey(null), ApiError.InvalidApiKey("") })
        {
            Assert.Equal(401, error.Status);
            Assert.StartsWith("You didn't provide an API key.", error.Message, StringComparison.Ordinal);
            Assert.Null(error.Code);
        }
    }

    [Fact]
    public void Statuses_and_types_of_the_factories()
    {
        Assert.Equal((400, "invalid_request_error"), (ApiError.InvalidJson().Status, ApiError.InvalidJson().Type));
        Assert.Equal(405, ApiError.MethodNotAllowed("GET", "/v1/chat/completions").Status);
        Assert.Equal("Invalid URL (POST /v1/nothing)", ApiError.UnknownUrl("POST", "/v1/nothing").Message);
        Assert.Equal(413, ApiError.PayloadTooLarge(1024).Status);
        Assert.Equal(415, ApiError.UnsupportedMediaType("text/plain").Status);
        Assert.Equal(415, ApiError.UnsupportedMediaType(null).Status);

        var limited = ApiError.RateLimited(3);
        Assert.Equal((429, "requests", "rate_limit_exceeded", 3), (limited.Status, limited.Type, limited.Code, limited.RetryAfterSeconds));

        var server = ApiError.ServerError();
        Assert.Equal((500, "server_error"), (server.Status, server.Type));
        Assert.Equal("The server had an error while processing your request. Sorry about that!", server.Message);

        Assert.Equal(503, ApiError.Overloaded(2).Status);
        Assert.Equal((504, "server_error"), (ApiError.Timeout().Status, ApiError.Timeout().Type));
        Assert.Equal(408, ApiError.Timeout(408).Status);
        Assert.Throws<ArgumentOutOfRangeException>(() => ApiError.Timeout(500));
        Assert.Equal(502, ApiError.UpstreamUnavailable().Status);
    }

    [Theory]
    [InlineData(400, "Bad chunk size data.", 400, "invalid_request_error", "malformed_request")]
    [InlineData(408, "Reading the request body timed out due to data arriving too slowly.", 408, "invalid_request_error", "request_timeout")]
    [InlineData(413, "Request body too large.", 413, "invalid_request_error", "request_too_large")]
    [InlineData(431, "Request headers too long.", 431, "invalid_request_error", "request_header_fields_too_large")]
    [InlineData(505, "Unrecognized HTTP version.", 505, "server_error", "malformed_request")]
    [InlineData(200, null, 400, "invalid_request_error", "malformed_request")]
    public void Unreadable_requests_keep_their_status(int status, string? detail, int expectedStatus, string type, string code)
    {
        var error = ApiError.UnreadableRequest(status, detail);

        Assert.Equal((expectedStatus, type, code), (error.Status, error.Type, error.Code));
        Assert.EndsWith(".", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_request_detail_is_shortened_and_printable()
    {
        var error = ApiError.UnreadableRequest(400, "Invalid request line: '\u001b[31m" + new string('x', 1000) + "'");

        Assert.DoesNotContain('\u001b', error.Message);
        Assert.True(error.Message.Length < 400, error.Message);
    }

    [Fact]
    public void Upstream_errors_pass_through()
    {
        var body = """{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"""u8;
        var error = ApiError.FromUpstreamResponse(429, body);
        Assert.Equal((429, "Rate limit reached", "requests", null, "rate_limit_exceeded"), (error.Status, error.Message, error.Type, error.Param, error.Code));
    }

    [Theory]
    [InlineData("<html>502 Bad Gateway</html>")]
    [InlineData("")]
    [InlineData("{\"error\":\"string\"}")]
    [InlineData("{\"error\":{\"message\":5}}")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[")]
    public void Upstream_garbage_becomes_a_generic_error_with_the_status(string body)
    {
        var error = ApiError.FromUpstreamResponse(503, Encoding.UTF8.GetBytes(body));
        Assert.Equal(503, error.Status);
        Assert.Equal("server_error", error.Type);
        Assert.Equal("The upstream server returned HTTP 503.", error.Message);
        Assert.False(ApiError.TryParse(Encoding.UTF8.GetBytes(body), 503, out _));
    }

    [Fact]
    public void Upstream_status_outside_errors_becomes_502()
    {
        Assert.Equal(502, ApiError.Upstream(200, "odd", null, null, null).Status);
        Assert.Equal("invalid_request_error", ApiError.Upstream(404, "x", null, null, null).Type);
    }
}
