using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Capa.Server.Tests.Providers.Local;
using Capa.Server.VectorStores;
using OpenAI.Responses;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

#pragma warning disable OPENAI001 // The Responses client is marked experimental.

namespace Capa.Server.Tests.Responses;

/// <summary>
/// <c>input_image</c> and <c>input_file</c> parts of a response's input, on a fresh store with <c>capa-tiny</c> and
/// <c>capa-tiny-vision</c>: an image (a data: URL or an uploaded file) reaches the vision model as chat's image does,
/// counted the same; a file's text (text or PDF, uploaded or inline) reaches the prompt as the same text sent as
/// <c>input_text</c> would; bad parts are OpenAI's errors naming the part.
/// </summary>
public sealed class ResponsesInputFilesTests(TinyVisionServerFixture fixture) : IClassFixture<TinyVisionServerFixture>
{
    private const string Question = "What is in this picture?";

    private HttpClient Http => fixture.Server.Http;

    private static string DataUrl(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, object body)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(path, content);
        return (response.StatusCode, JsonElement.Parse(await response.Content.ReadAsStringAsync()));
    }

    private async Task<JsonElement> RespondAsync(string model, params object[] parts)
    {
        var (status, body) = await PostAsync("/v1/responses", new
        {
            model,
            input = new[] { new { role = "user", content = parts } },
            max_output_tokens = 16,
            temperature = 0,
        });
        Assert.True(status == HttpStatusCode.OK, body.GetRawText());
        Assert.True(body.GetProperty("status").GetString() is "completed" or "incomplete", body.GetRawText());
        return body;
    }

    private static int InputTokens(JsonElement response) => response.GetProperty("usage").GetProperty("input_tokens").GetInt32();

    private async Task<JsonElement> RefusedAsync(HttpStatusCode status, params object[] parts)
    {
        var (actual, body) = await PostAsync("/v1/responses", new { model = CapaTinyVision.ModelId, input = new[] { new { role = "user", content = parts } }, max_output_tokens = 16 });
        Assert.True(status == actual, body.GetRawText());
        return ErrorAssert.Shape(body.GetRawText());
    }

    private async Task<string> UploadAsync(byte[] bytes, string filename, string purpose)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", filename);
        form.Add(new StringContent(purpose), "purpose");
        using var response = await Http.PostAsync("/v1/files", form);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonElement.Parse(text).GetProperty("id").GetString()!;
    }

    private static byte[] Pdf(params string[] lines)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
        var y = 760.0;
        foreach (var line in lines)
        {
            page.AddText(line, 12, new PdfPoint(40, y), font);
            y -= 20;
        }

        return builder.Build();
    }

    [Fact]
    public async Task An_input_image_is_read_by_the_vision_model_and_counted_as_chats_image()
    {
        var png = LocalVisionProviderTests.Png(48, 40, shade: 5);
        var (status, chat) = await PostAsync("/v1/chat/completions", new
        {
            model = CapaTinyVision.ModelId,
            max_tokens = 1,
            messages = new[]
            {
                new
                {
                    role = "user",
                    content = new object[] { new { type = "text", text = Question }, new { type = "image_url", image_url = new { url = DataUrl(png) } } },
                },
            },
        });
        Assert.True(status == HttpStatusCode.OK, chat.GetRawText());
        var chatTokens = chat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        var textOnly = InputTokens(await RespondAsync(CapaTinyVision.ModelId, new { type = "input_text", text = Question }));

        var response = await RespondAsync(CapaTinyVision.ModelId, new { type = "input_text", text = Question }, new { type = "input_image", image_url = DataUrl(png), detail = "auto" });

        Assert.Equal(chatTokens, InputTokens(response));
        Assert.True(InputTokens(response) > textOnly + 64, $"{InputTokens(response)} input tokens with the image, {textOnly} without");

        // A model that reads no images is routed to one that does, as on chat; the image part is stored as sent.
        var routed = await RespondAsync("gpt-4o", new { type = "input_text", text = Question }, new { type = "input_image", image_url = DataUrl(png), detail = "auto" });
        Assert.Equal(chatTokens, InputTokens(routed));
        Assert.Equal("gpt-4o", routed.GetProperty("model").GetString());
        var items = JsonElement.Parse(await Http.GetStringAsync($"/v1/responses/{routed.GetProperty("id").GetString()}/input_items"));
        var stored = items.GetProperty("data")[0].GetProperty("content")[1];
        Assert.Equal("input_image", stored.GetProperty("type").GetString());
        Assert.Equal(DataUrl(png), stored.GetProperty("image_url").GetString());
        Assert.Equal("auto", stored.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_input_image_naming_an_uploaded_file_reads_its_bytes()
    {
        var png = LocalVisionProviderTests.Png(40, 40, shade: 7);
        var inline = await RespondAsync(CapaTinyVision.ModelId, new { type = "input_text", text = Question }, new { type = "input_image", image_url = DataUrl(png), detail = "low" });
        var id = await UploadAsync(png, "picture.png", "vision");

        var response = await RespondAsync(CapaTinyVision.ModelId, new { type = "input_text", text = Question }, new { type = "input_image", file_id = id, detail = "low" });

        Assert.Equal(InputTokens(inline), InputTokens(response));
        var items = JsonElement.Parse(await Http.GetStringAsync($"/v1/responses/{response.GetProperty("id").GetString()}/input_items"));
        var stored = items.GetProperty("data")[0].GetProperty("content")[1];
        Assert.Equal(id, stored.GetProperty("file_id").GetString());
        Assert.False(stored.TryGetProperty("image_url", out _));
    }

    [Fact]
    public async Task Bad_image_parts_are_refused_naming_the_part()
    {
        var text = new { type = "input_text", text = Question };
        var error = await RefusedAsync(HttpStatusCode.BadRequest, text, new { type = "input_image", image_url = "not a url", detail = "auto" });
        Assert.Equal("input[0].content[1].image_url", error.GetProperty("param").GetString());
        Assert.Equal("invalid_image_url", error.GetProperty("code").GetString());

        error = await RefusedAsync(HttpStatusCode.BadRequest, text, new { type = "input_image", image_url = "data:image/png;base64,bm90IGFuIGltYWdl", detail = "auto" });
        Assert.Equal("input[0].content[1].image_url", error.GetProperty("param").GetString());

        error = await RefusedAsync(HttpStatusCode.NotFound, text, new { type = "input_image", file_id = "file-missing", detail = "auto" });
        Assert.Equal("input[0].content[1].file_id", error.GetProperty("param").GetString());

        error = await RefusedAsync(HttpStatusCode.BadRequest, text, new { type = "input_image", detail = "auto" });
        Assert.Equal("input[0].content[1].image_url", error.GetProperty("param").GetString());

        error = await RefusedAsync(HttpStatusCode.BadRequest, text, new { type = "input_image", image_url = DataUrl(LocalVisionProviderTests.Png(8, 8)), detail = "medium" });
        Assert.Equal("input[0].content[1].detail", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task An_input_file_puts_a_text_files_text_in_the_prompt()
    {
        const string Notes = "The launch window opens on the ninth of March and closes eleven days later.";
        var id = await UploadAsync(Encoding.UTF8.GetBytes(Notes), "notes.txt", "user_data");
        var question = new { type = "input_text", text = "When does the window open? " };
        var alone = await RespondAsync(CapaTiny.ModelId, question);
        var asText = await RespondAsync(CapaTiny.ModelId, question, new { type = "input_text", text = Notes });

        var asFile = await RespondAsync(CapaTiny.ModelId, question, new { type = "input_file", file_id = id });
        var inline = await RespondAsync(CapaTiny.ModelId, question, new { type = "input_file", filename = "notes.txt", file_data = Convert.ToBase64String(Encoding.UTF8.GetBytes(Notes)) });

        Assert.True(InputTokens(asText) > InputTokens(alone) + 10);
        Assert.Equal(InputTokens(asText), InputTokens(asFile));
        Assert.Equal(InputTokens(asText), InputTokens(inline));
    }

    [Fact]
    public async Task An_input_file_puts_a_pdfs_text_in_the_prompt()
    {
        var pdf = Pdf("Mission report: the rover drove 412 metres.", "Its battery held at sixty percent.");
        var text = TextExtractor.Extract("report.pdf", pdf).Text;
        Assert.Contains("412 metres", text, StringComparison.Ordinal);
        var id = await UploadAsync(pdf, "report.pdf", "user_data");
        var question = new { type = "input_text", text = "How far did it drive? " };
        var asText = await RespondAsync(CapaTiny.ModelId, question, new { type = "input_text", text });

        var asFile = await RespondAsync(CapaTiny.ModelId, question, new { type = "input_file", file_id = id });
        var inline = await RespondAsync(CapaTiny.ModelId, question, new { type = "input_file", filename = "report.pdf", file_data = "data:application/pdf;base64," + Convert.ToBase64String(pdf) });

        Assert.Equal(InputTokens(asText), InputTokens(asFile));
        Assert.Equal(InputTokens(asText), InputTokens(inline));
    }

    [Fact]
    public async Task Files_without_text_or_out_of_reach_are_refused_naming_the_part()
    {
        var question = new { type = "input_text", text = "Read this." };
        var image = await UploadAsync(LocalVisionProviderTests.Png(8, 8), "picture.png", "user_data");
        var error = await RefusedAsync(HttpStatusCode.BadRequest, question, new { type = "input_file", file_id = image });
        Assert.Equal("input[0].content[1].file_id", error.GetProperty("param").GetString());
        Assert.Equal("unsupported_file", error.GetProperty("code").GetString());

        error = await RefusedAsync(HttpStatusCode.BadRequest, question, new { type = "input_file", filename = "notes.txt", file_data = "%%% not base64" });
        Assert.Equal("input[0].content[1].file_data", error.GetProperty("param").GetString());

        error = await RefusedAsync(HttpStatusCode.BadRequest, question, new { type = "input_file", file_data = Convert.ToBase64String(Encoding.UTF8.GetBytes("hi")) });
        Assert.Equal("input[0].content[1].filename", error.GetProperty("param").GetString());

        error = await RefusedAsync(HttpStatusCode.BadRequest, question, new { type = "input_file", file_url = "https://127.0.0.1/notes.txt" });
        Assert.Equal("input[0].content[1].file_url", error.GetProperty("param").GetString());

        error = await RefusedAsync(HttpStatusCode.NotFound, question, new { type = "input_file", file_id = "file-missing" });
        Assert.Equal("input[0].content[1].file_id", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task The_sdks_image_and_file_parts_are_read_as_the_same_parts_sent_over_http()
    {
        var client = new ResponsesClient(new ApiKeyCredential("unused"), new ResponsesClientOptions
        {
            Endpoint = new Uri(fixture.Server.BaseUrl + "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(120),
        });
        var png = LocalVisionProviderTests.Png(44, 36, shade: 2);
        var http = await RespondAsync(CapaTinyVision.ModelId, new { type = "input_text", text = Question }, new { type = "input_image", image_url = DataUrl(png), detail = "high" });

        var imageId = await UploadAsync(png, "picture.png", "vision");
        var image = (await client.CreateResponseAsync(new CreateResponseOptions(CapaTinyVision.ModelId, [ResponseItem.CreateUserMessageItem(
        [
            ResponseContentPart.CreateInputTextPart(Question),
            ResponseContentPart.CreateInputImagePart(imageId, ResponseImageDetailLevel.High),
        ])])
        { MaxOutputTokenCount = 16 })).Value;
        Assert.Equal(InputTokens(http), image.Usage.InputTokenCount);

        const string Notes = "Pack two spare filters and the red cable.";
        var id = await UploadAsync(Encoding.UTF8.GetBytes(Notes), "list.md", "user_data");
        var asText = await RespondAsync(CapaTiny.ModelId, new { type = "input_text", text = Notes }, new { type = "input_text", text = "What to pack?" });
        var file = (await client.CreateResponseAsync(new CreateResponseOptions(CapaTiny.ModelId, [ResponseItem.CreateUserMessageItem(
        [
            ResponseContentPart.CreateInputFilePart(id),
            ResponseContentPart.CreateInputTextPart("What to pack?"),
        ])])
        { MaxOutputTokenCount = 16 })).Value;
        Assert.Equal(InputTokens(asText), file.Usage.InputTokenCount);
    }
}
