using System.Text;
using Capa.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Capa.Server.Tests.Hosting;

/// <summary>
/// The framework's complaints about a request are the client's error, with their own status, through the real
/// outermost middleware; the same exception types thrown by anything else stay server faults.
/// </summary>
public sealed class RequestFailuresTests
{
    public static TheoryData<string, string> MalformedForms => new()
    {
        // The closing boundary never comes.
        { "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue" },

        // A multipart content type without its boundary.
        { "multipart/form-data", "--XyZ\r\n\r\n--XyZ--\r\n" },

        // A section header line longer than the reader allows.
        { "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"" + new string('a', 20_000) + "\"\r\n\r\nv\r\n--XyZ--\r\n" },
    };

    [Theory]
    [MemberData(nameof(MalformedForms))]
    public async Task MalformedForm_Is400_InOpenAIShape(string contentType, string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/v1/form";
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(Encoding.ASCII.GetBytes(body));
        var response = new MemoryStream();
        context.Response.Body = response;
        var middleware = new RequestContextMiddleware(static async c => await c.Request.ReadFormAsync(c.RequestAborted), NullLogger<RequestContextMiddleware>.Instance);

        await middleware.InvokeAsync(context);

        Assert.Equal(400, context.Response.StatusCode);
        var error = Infrastructure.ErrorAssert.Shape(Encoding.UTF8.GetString(response.ToArray()));
        Assert.Equal("malformed_request", error.GetProperty("code").GetString());
    }

    [Fact]
    public void KestrelsRefusal_WrappedInAnotherException_KeepsItsStatus()
    {
        var wrapped = new IOException("read failed", new BadHttpRequestException("Request body too large.", 413));

        Assert.True(RequestFailures.TryGetError(wrapped, out var error));
        Assert.Equal((413, "request_too_large"), (error.Status, error.Code));
    }

    [Fact]
    public void SameExceptionTypes_FromElsewhere_AreServerFaults()
    {
        Assert.False(RequestFailures.TryGetError(Thrown(() => throw new InvalidDataException("a corrupt model file")), out _));
        Assert.False(RequestFailures.TryGetError(Thrown(() => throw new IOException("disk full")), out _));
        Assert.False(RequestFailures.TryGetError(new InvalidOperationException("bug"), out _));
    }

    private static Exception Thrown(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            return e;
        }

        throw new InvalidOperationException("nothing thrown");
    }
}
