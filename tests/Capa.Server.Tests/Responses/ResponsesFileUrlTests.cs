using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.Server.Vision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Capa.Server.Tests.Responses;

/// <summary>
/// A web server on 127.0.0.1 with documents, and a Capa server allowed to fetch from loopback over http (the fetcher's
/// switches for tests), serving <c>local-chat</c>.
/// </summary>
public sealed class FileUrlServerFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-file-url-" + Guid.NewGuid().ToString("N"));
    private WebApplication _documents = null!;
    private int _hits;

    public LocalTestProvider Local { get; } = new();

    public CapaTestServer Server { get; private set; } = null!;

    public string DocumentsUrl { get; private set; } = "";

    /// <summary>Requests the document server received.</summary>
    public int Hits => Volatile.Read(ref _hits);

    public static byte[] Pdf(string text)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4).AddText(text, 12, new PdfPoint(40, 760), font);
        return builder.Build();
    }

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _documents = builder.Build();
        _documents.Use(async (context, next) =>
        {
            Interlocked.Increment(ref _hits);
            await next(context);
        });
        static IResult Bytes(byte[] bytes, string type) => Results.Bytes(bytes, type);
        _documents.MapGet("/notes.md", () => Bytes(Encoding.UTF8.GetBytes("# Notes\n\nThe lighthouse cat is called Biscuit."), "text/markdown"));
        _documents.MapGet("/report", () => Bytes(Pdf("Quarterly tonnage rose to 4711 tonnes."), "application/pdf"));
        _documents.MapGet("/page.php", () => Bytes(Encoding.UTF8.GetBytes("<html><body><p>Ferry leaves at <b>noon</b>.</p><script>var x;</script></body></html>"), "text/html; charset=utf-8"));
        _documents.MapGet("/moved", () => Results.Redirect("/notes.md"));
        _documents.MapGet("/picture", () => Bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0], "image/png"));
        _documents.MapGet("/huge.txt", () => Bytes(new byte[(32 << 20) + 1], "text/plain"));
        await _documents.StartAsync();
        DocumentsUrl = _documents.Urls.First();

        Server = await CapaTestServer.StartAsync(new CapaServerOptions { StateDirectory = Path.Combine(_root, "state") }, b =>
        {
            b.Services.AddChatProvider(Local);
            b.Services.AddSingleton(new VisionInputOptions { AllowHttp = true, AllowPrivateNetworks = true });
        });
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await _documents.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// <c>input_file</c> parts with a <c>file_url</c>: fetched by the image inputs' fetcher under its network policy,
/// named from the URL and its media type, read like an uploaded file (Markdown, PDF, HTML), and refused with OpenAI's
/// 400 naming the part when the URL is bad, out of reach, too large or not a document.
/// </summary>
public sealed class ResponsesFileUrlTests(FileUrlServerFixture fixture) : IClassFixture<FileUrlServerFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> RespondAsync(string user, object file)
    {
        var body = JsonSerializer.Serialize(new
        {
            model = "local-chat",
            user,
            input = new[] { new { role = "user", content = new object[] { new { type = "input_text", text = "Read this." }, file } } },
        });
        using var response = await fixture.Server.Http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonElement.Parse(await response.Content.ReadAsStringAsync()));
    }

    private string Prompt(string user) => Encoding.UTF8.GetString(fixture.Local.Calls[user].Body.Span);

    [Theory]
    [InlineData("/notes.md", "The lighthouse cat is called Biscuit.")]
    [InlineData("/report", "Quarterly tonnage rose to 4711 tonnes.")]
    [InlineData("/moved", "The lighthouse cat is called Biscuit.")]
    public async Task A_documents_text_reaches_the_model(string path, string text)
    {
        var user = "url-" + Guid.NewGuid().ToString("N");
        var (status, body) = await RespondAsync(user, new { type = "input_file", file_url = fixture.DocumentsUrl + path });
        Assert.True(status == HttpStatusCode.OK, body.GetRawText());
        Assert.Contains(text, Prompt(user), StringComparison.Ordinal);

        // The stored input is what the client sent: the URL, not the text.
        using var items = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/responses/{body.GetProperty("id").GetString()}/input_items"));
        Assert.Equal(fixture.DocumentsUrl + path, items.RootElement.GetProperty("data")[0].GetProperty("content")[1].GetProperty("file_url").GetString());
    }

    [Fact]
    public async Task An_html_page_is_read_by_its_media_type_without_tags_or_scripts()
    {
        var user = "url-" + Guid.NewGuid().ToString("N");
        var (status, body) = await RespondAsync(user, new { type = "input_file", file_url = fixture.DocumentsUrl + "/page.php" });
        Assert.True(status == HttpStatusCode.OK, body.GetRawText());
        var prompt = Prompt(user);
        Assert.Contains("Ferry leaves at", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("var x", prompt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/missing.txt", "invalid_value")]
    [InlineData("/picture", "unsupported_file")]
    [InlineData("/huge.txt", "file_too_large")]
    public async Task Unreadable_urls_are_refused_naming_the_part(string path, string code)
    {
        var (status, body) = await RespondAsync("bad", new { type = "input_file", file_url = fixture.DocumentsUrl + path });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = ErrorAssert.Shape(body.GetRawText());
        Assert.Equal("input[0].content[1].file_url", error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("notes.md")]
    [InlineData("ftp://127.0.0.1/notes.md")]
    [InlineData("file:///etc/passwd")]
    public async Task Urls_that_are_not_http_are_refused(string url)
    {
        var (status, body) = await RespondAsync("bad", new { type = "input_file", file_url = url });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("input[0].content[1].file_url", ErrorAssert.Shape(body.GetRawText()).GetProperty("param").GetString());
    }

    [Fact]
    public async Task With_the_default_policy_loopback_and_http_are_never_fetched()
    {
        var root = Directory.CreateTempSubdirectory("capa-file-url-default-").FullName;
        try
        {
            await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { StateDirectory = Path.Combine(root, "state") }, b => b.Services.AddChatProvider(new LocalTestProvider()));
            var hits = fixture.Hits;
            foreach (var url in new[] { fixture.DocumentsUrl + "/notes.md", fixture.DocumentsUrl.Replace("http:", "https:", StringComparison.Ordinal) + "/notes.md" })
            {
                var body = JsonSerializer.Serialize(new
                {
                    model = "local-chat",
                    input = new[] { new { role = "user", content = new object[] { new { type = "input_file", file_url = url } } } },
                });
                using var response = await server.Http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
                await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, param: "input[0].content[0].file_url");
            }

            Assert.Equal(hits, fixture.Hits);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
