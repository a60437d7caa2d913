using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Capa.Server.Configuration;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.Storage.Files.S3;
using Capa.TestModels.Tests;

namespace Capa.Server.Tests.Files;

/// <summary>The Files API with its bytes in an S3-compatible bucket (s3rver on 127.0.0.1), as the config file's files.s3 sets it.</summary>
public sealed class S3FilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-s3files-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Config(Uri endpoint, string bucket, string prefix)
    {
        string path = Path.Combine(_directory, "capa.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new { files = new { s3 = new { endpoint = endpoint.ToString(), bucket, prefix, timeout = 10 } } }));
        return path;
    }

    private static readonly Dictionary<string, string> Credentials = new()
    {
        ["AWS_ACCESS_KEY_ID"] = S3rver.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3rver.SecretKey,
    };

    private static MultipartFormDataContent Upload(byte[] bytes)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
        form.Add(part, "file", "notes.md");
        form.Add(new StringContent("assistants"), "purpose");
        return form;
    }

    [SkippableFact]
    public async Task Uploads_live_in_the_bucket_and_come_back_byte_for_byte()
    {
        Skip.If(S3rver.UnavailableReason is not null, S3rver.UnavailableReason);
        using var s3 = S3rver.Start();
        await using var server = await CapaTestServer.StartAsync(
            new CapaServerOptions { ConfigFile = Config(s3.Endpoint, s3.Bucket, "team/"), StateDirectory = Path.Combine(_directory, "state") },
            environment: name => Credentials.GetValueOrDefault(name));
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes("# 英雄联盟\nS赛 2022 冠军: DRX\n");

        using var created = await server.Http.PostAsync("/v1/files", Upload(bytes));
        string body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.OK, body);
        string id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        // The object is in the bucket under the prefix, named by the content's SHA-256, and nothing is kept locally.
        using var bucket = new S3ContentBackend(new S3Options { Endpoint = s3.Endpoint, Bucket = s3.Bucket, Prefix = "team/", AccessKeyId = S3rver.AccessKey, SecretAccessKey = S3rver.SecretKey });
        var stored = new List<string>();
        await foreach (var item in bucket.ListAsync(CancellationToken.None))
        {
            stored.Add(item.Sha256);
        }

        Assert.Equal([Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))], stored);
        Assert.False(Directory.Exists(Path.Combine(_directory, "state", "files", "sha256")));

        using (var content = await server.Http.GetAsync($"/v1/files/{id}/content"))
        {
            Assert.Equal(HttpStatusCode.OK, content.StatusCode);
            Assert.Equal(bytes, await content.Content.ReadAsByteArrayAsync());
        }

        using (var deleted = await server.Http.DeleteAsync($"/v1/files/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        using var gone = await server.Http.GetAsync($"/v1/files/{id}/content");
        await ErrorAssert.IsOpenAIErrorAsync(gone, HttpStatusCode.NotFound, null);
    }

    [SkippableFact]
    public async Task An_unreachable_bucket_is_a_503_in_openais_shape_and_the_server_stays_up()
    {
        Skip.If(S3rver.UnavailableReason is not null, S3rver.UnavailableReason);
        await using var server = await CapaTestServer.StartAsync(
            new CapaServerOptions { ConfigFile = Config(new Uri("http://127.0.0.1:9"), "capa", "x/"), StateDirectory = Path.Combine(_directory, "state") },
            environment: name => Credentials.GetValueOrDefault(name));

        using var response = await server.Http.PostAsync("/v1/files", Upload([1, 2, 3]));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        Assert.DoesNotContain(S3rver.SecretKey, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_directory, "state", "files", "tmp")));

        using var list = await server.Http.GetAsync("/v1/files");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Fact]
    public void The_bucket_needs_its_credentials_from_the_environment()
    {
        string path = Config(new Uri("http://127.0.0.1:9"), "capa", "x/");
        var error = Assert.Throws<CapaConfigException>(() => ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, GetEnvironmentVariable = _ => null }));
        Assert.Contains("AWS_ACCESS_KEY_ID", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"files": {"s3": {"endpoint": "ftp://x", "bucket": "capa"}}}""", "files.s3.endpoint")]
    [InlineData("""{"files": {"s3": {"endpoint": "http://x", "bucket": "Capa_Bucket"}}}""", "files.s3.bucket")]
    [InlineData("""{"files": {"s3": {"endpoint": "http://x", "bucket": "capa", "prefix": "/abs"}}}""", "files.s3.prefix")]
    [InlineData("""{"files": {"s3": {"endpoint": "http://x", "bucket": "capa", "secret_access_key": "inline"}}}""", "secret_access_key")]
    public void Bad_bucket_settings_are_refused_by_name(string json, string named)
    {
        var error = Assert.Throws<CapaConfigException>(() => CapaConfigFile.Parse(System.Text.Encoding.UTF8.GetBytes(json), "capa.json"));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
