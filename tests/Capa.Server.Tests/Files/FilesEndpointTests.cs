using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Files;

namespace Capa.Server.Tests.Files;

#pragma warning disable OPENAI001 // Parts of the files client are marked experimental.

public sealed class FilesEndpointTests(FilesServerFixture fixture) : IClassFixture<FilesServerFixture>
{
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    private string ContentRoot => Path.Combine(fixture.StateDirectory, "files");

    private string[] TempFiles() => Directory.Exists(Path.Combine(ContentRoot, "tmp")) ? Directory.GetFiles(Path.Combine(ContentRoot, "tmp")) : [];

    private static MultipartFormDataContent Form(byte[]? file, string? purpose, string filename = "notes.md", params (string Name, string Value)[] extra)
    {
        var form = new MultipartFormDataContent();
        if (file is not null)
        {
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
            form.Add(part, "file", filename);
        }

        if (purpose is not null)
        {
            form.Add(new StringContent(purpose), "purpose");
        }

        foreach (var (name, value) in extra)
        {
            form.Add(new StringContent(value), name);
        }

        return form;
    }

    [Fact]
    public async Task The_sdk_uploads_lists_retrieves_downloads_and_deletes_a_file()
    {
        var client = fixture.Files();
        var bytes = Encoding.UTF8.GetBytes("# 英雄联盟\n\nA note with a rare word: zyzzogeton.\n");
        OpenAIFile uploaded = await client.UploadFileAsync(BinaryData.FromBytes(bytes), "英雄 notes.md", FileUploadPurpose.Assistants);
        Assert.StartsWith("file-", uploaded.Id, StringComparison.Ordinal);
        Assert.Equal("英雄 notes.md", uploaded.Filename);
        Assert.Equal(bytes.Length, uploaded.SizeInBytesLong);
        Assert.Equal(FilePurpose.Assistants, uploaded.Purpose);
        Assert.Null(uploaded.ExpiresAt);

        OpenAIFile fetched = await client.GetFileAsync(uploaded.Id, Ct);
        Assert.Equal(uploaded.Id, fetched.Id);
        Assert.Equal(uploaded.CreatedAt, fetched.CreatedAt);

        OpenAIFileCollection all = await client.GetFilesAsync(FilePurpose.Assistants, Ct);
        Assert.Contains(all, f => f.Id == uploaded.Id);
        OpenAIFileCollection vision = await client.GetFilesAsync(FilePurpose.Vision, Ct);
        Assert.DoesNotContain(vision, f => f.Id == uploaded.Id);

        BinaryData downloaded = await client.DownloadFileAsync(uploaded.Id, Ct);
        Assert.Equal(bytes, downloaded.ToArray());

        FileDeletionResult deleted = await client.DeleteFileAsync(uploaded.Id, Ct);
        Assert.True(deleted.Deleted);
        Assert.Equal(uploaded.Id, deleted.FileId);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => client.GetFileAsync(uploaded.Id, Ct));
        Assert.Equal(404, missing.Status);
        await Assert.ThrowsAsync<ClientResultException>(() => client.DownloadFileAsync(uploaded.Id, Ct));
        await Assert.ThrowsAsync<ClientResultException>(() => client.DeleteFileAsync(uploaded.Id, Ct));
    }

    [Fact]
    public async Task Lists_are_newest_first_and_page_with_after()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var form = Form(Encoding.UTF8.GetBytes("page test " + i + " " + Guid.NewGuid()), "evals");
            using var response = await fixture.Server.Http.PostAsync("/v1/files", form, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ids.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!);
        }

        using var first = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync("/v1/files?purpose=evals&limit=2", Ct));
        var page = first.RootElement;
        Assert.Equal("list", page.GetProperty("object").GetString());
        Assert.Equal([ids[2], ids[1]], page.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.Equal(ids[1], page.GetProperty("last_id").GetString());

        using var second = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/files?purpose=evals&limit=2&after={ids[1]}", Ct));
        Assert.Equal([ids[0]], second.RootElement.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        Assert.False(second.RootElement.GetProperty("has_more").GetBoolean());

        using var ascending = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync("/v1/files?purpose=evals&order=asc", Ct));
        Assert.Equal(ids, ascending.RootElement.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Expires_after_sets_expires_at_from_created_at()
    {
        using var form = Form([1, 2, 3], "batch", "data.jsonl", ("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "3600"));
        using var response = await fixture.Server.Http.PostAsync("/v1/files", form, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var file = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(file.GetProperty("created_at").GetInt64() + 3600, file.GetProperty("expires_at").GetInt64());
        Assert.Equal("processed", file.GetProperty("status").GetString());
        Assert.Equal("file", file.GetProperty("object").GetString());
    }

    [Theory]
    [InlineData("purpose", "images", "invalid_value")]
    [InlineData("expires_after[seconds]", "60", "integer_out_of_range")]
    [InlineData("expires_after[seconds]", "soon", "invalid_type")]
    [InlineData("expires_after[anchor]", "now", "invalid_value")]
    public async Task Bad_fields_are_refused_and_leave_nothing(string field, string value, string code)
    {
        var fields = new Dictionary<string, string> { ["purpose"] = "assistants", ["expires_after[anchor]"] = "created_at", ["expires_after[seconds]"] = "7200" };
        fields[field] = value;
        using var form = Form(Encoding.UTF8.GetBytes("bad field " + field + value), null, "x.txt", [.. fields.Select(kv => (kv.Key, kv.Value))]);
        using var response = await fixture.Server.Http.PostAsync("/v1/files", form, Ct);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task Missing_parts_empty_files_and_non_multipart_bodies_are_400()
    {
        using (var response = await fixture.Server.Http.PostAsync("/v1/files", Form(null, "assistants"), Ct))
        {
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "missing_required_parameter", "file");
        }

        using (var response = await fixture.Server.Http.PostAsync("/v1/files", Form([1], null), Ct))
        {
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "missing_required_parameter", "purpose");
        }

        using (var response = await fixture.Server.Http.PostAsync("/v1/files", Form([], "assistants"), Ct))
        {
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "empty_file", "file");
        }

        using (var response = await fixture.Server.Http.PostAsync("/v1/files", new StringContent("{}", Encoding.UTF8, "application/json"), Ct))
        {
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "invalid_content_type");
        }

        using (var response = await fixture.Server.Http.GetAsync("/v1/files?limit=0", Ct))
        {
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "integer_out_of_range", "limit");
        }

        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task A_file_over_the_limit_is_413_while_streaming_and_leaves_nothing()
    {
        var before = await fixture.Files().GetFilesAsync(Ct);
        var big = new byte[FilesServerFixture.MaxFileBytes + 1];
        Random.Shared.NextBytes(big);
        using var response = await fixture.Server.Http.PostAsync("/v1/files", Form(big, "assistants"), Ct);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "file_too_large", "file");
        Assert.Empty(TempFiles());
        var after = await fixture.Files().GetFilesAsync(Ct);
        Assert.Equal(before.Value.Count, after.Value.Count);

        // Exactly at the limit is accepted, and the server keeps serving.
        using var exact = await fixture.Server.Http.PostAsync("/v1/files", Form(big[..^1], "assistants"), Ct);
        Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
    }

    [Fact]
    public async Task Unknown_ids_are_404_in_openai_shape()
    {
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/v1/files/file-nope"), (HttpMethod.Delete, "/v1/files/file-nope"), (HttpMethod.Get, "/v1/files/file-nope/content") })
        {
            using var response = await fixture.Server.Http.SendAsync(new HttpRequestMessage(method, path), Ct);
            var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound);
            Assert.Contains("file-nope", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Identical_uploads_share_their_bytes_until_the_last_is_deleted()
    {
        var client = fixture.Files();
        var bytes = Encoding.UTF8.GetBytes("shared content " + Guid.NewGuid());
        OpenAIFile first = await client.UploadFileAsync(BinaryData.FromBytes(bytes), "a.txt", FileUploadPurpose.UserData);
        OpenAIFile second = await client.UploadFileAsync(BinaryData.FromBytes(bytes), "b.txt", FileUploadPurpose.UserData);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var path = Path.Combine(ContentRoot, "sha256", sha[..2], sha);
        Assert.True(File.Exists(path));

        await client.DeleteFileAsync(first.Id, Ct);
        Assert.Equal(bytes, (await client.DownloadFileAsync(second.Id, Ct)).Value.ToArray());
        await client.DeleteFileAsync(second.Id, Ct);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_client_that_disconnects_midway_leaves_no_row_and_no_half_file()
    {
        var before = (await fixture.Files().GetFilesAsync(Ct)).Value.Count;
        using (var raw = new System.Net.Sockets.TcpClient())
        {
            var uri = new Uri(fixture.Server.BaseUrl);
            await raw.ConnectAsync(uri.Host, uri.Port, Ct);
            var stream = raw.GetStream();
            var head = "POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=BOUND\r\nContent-Length: 100000\r\n\r\n"
                + "--BOUND\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
                + "--BOUND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.txt\"\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Ct);
            await stream.WriteAsync(new byte[20_000], Ct);
            await stream.FlushAsync(Ct);
            await Task.Delay(200, Ct);
        }

        // The server notices the abort and removes the staged bytes; poll briefly, bounded.
        for (var i = 0; i < 100 && TempFiles().Length > 0; i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Empty(TempFiles());
        Assert.Equal(before, (await fixture.Files().GetFilesAsync(Ct)).Value.Count);
    }
}
