using System.Text;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Passthrough;

/// <summary>
/// A parsed multipart form rebuilt as the body of an upstream request, for the cases where the body as sent cannot go
/// (its <c>model</c> is a configured alias, or a local endpoint read it without keeping it): every text field with its
/// values in order (repeated fields such as <c>tag[]</c> stay repeated), then every file in order with its field name,
/// file name and content type, its bytes streamed from where the form parser kept them.
/// </summary>
internal static class UpstreamMultipart
{
    /// <summary>Whether <paramref name="contentType"/> is <c>multipart/form-data</c>.</summary>
    public static bool IsFormData(string? contentType) =>
        contentType is not null && contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    /// <summary>The last <c>model</c> value of <paramref name="form"/> (the one a form parser keeps), or null.</summary>
    public static string? Model(IFormCollection form)
    {
        ArgumentNullException.ThrowIfNull(form);
        return form.TryGetValue("model", out var values) && values.Count > 0 ? values[^1] : null;
    }

    /// <summary>
    /// <paramref name="form"/> as a body for the upstream, every <c>model</c> value replaced by <paramref name="model"/>
    /// (null: left as sent). The files are read when the content is sent, so the form must outlive the upstream request.
    /// </summary>
    public static MultipartFormDataContent FromForm(IFormCollection form, string? model)
    {
        ArgumentNullException.ThrowIfNull(form);
        var content = new MultipartFormDataContent();
        foreach (var (name, values) in form)
        {
            foreach (string? value in values)
            {
                // No Content-Type on text parts, as browsers and curl send them: the upstream reads them as plain text.
                var text = name == "model" && model is not null ? model : value ?? "";
                content.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(text)), name);
            }
        }

        foreach (IFormFile file in form.Files)
        {
            var part = new FormFileContent(file);
            if (file.ContentType is { Length: > 0 } type)
            {
                part.Headers.TryAddWithoutValidation("Content-Type", type);
            }

            if (file.FileName.Length > 0)
            {
                content.Add(part, file.Name, file.FileName);
            }
            else
            {
                content.Add(part, file.Name);
            }
        }

        return content;
    }

    /// <summary>
    /// One uploaded file, opened only when it is sent: the parser's file streams share the request's buffered body and
    /// each seeks it when opened, so two open at once would read each other's bytes.
    /// </summary>
    private sealed class FormFileContent(IFormFile file) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            var source = file.OpenReadStream();
            await using (source.ConfigureAwait(false))
            {
                await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = file.Length;
            return true;
        }
    }
}
