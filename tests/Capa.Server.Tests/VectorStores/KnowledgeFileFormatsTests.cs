using System.Text;
using System.Text.Json;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using OpenAI.Files;
using OpenAI.VectorStores;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;
using Capa.Server.VectorStores;

namespace Capa.Server.Tests.VectorStores;

#pragma warning disable OPENAI001 // Vector stores are marked experimental in the SDK.

/// <summary>
/// PDF and Word knowledge files, written here with PdfPig and the Open XML SDK, are indexed by their text; damaged
/// ones fail their vector-store file with OpenAI's <c>last_error</c>, never the server.
/// </summary>
public sealed class KnowledgeFileFormatsTests(VectorStoresServerFixture fixture) : IClassFixture<VectorStoresServerFixture>
{
    private static byte[] Pdf(params string[][] pages)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var lines in pages)
        {
            var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
            var y = 760.0;
            foreach (var line in lines)
            {
                page.AddText(line, 12, new PdfPoint(40, y), font);
                y -= 20;
            }
        }

        return builder.Build();
    }

    private static byte[] Docx(params string[] paragraphs)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            var body = new Body();
            foreach (var text in paragraphs)
            {
                body.Append(new Paragraph(new Run(new Text(text) { Space = SpaceProcessingModeValues.Preserve })));
            }

            // A table's cells are text too.
            body.Append(new Table(new TableRow(
                new TableCell(new Paragraph(new Run(new Text("表格单元 cellword")))),
                new TableCell(new Paragraph(new Run(new Text("second cell")))))));
            main.Document = new Document(body);
            main.Document.Save();
        }

        return stream.ToArray();
    }

    /// <summary>
    /// A one-page PDF written by hand the way Chinese PDFs carry their text: a Type0 font with Identity-H codes and a
    /// ToUnicode map from each code to its character (the font program itself is not needed to read the text), then a
    /// line in Helvetica.
    /// </summary>
    private static byte[] ChinesePdf(string chinese, string english)
    {
        var characters = chinese.EnumerateRunes().Select(r => r.Value).Distinct().ToList();
        var codes = string.Concat(chinese.EnumerateRunes().Select(r => (characters.IndexOf(r.Value) + 1).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)));
        var map = new StringBuilder();
        map.Append("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n")
            .Append("/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n")
            .Append("1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
            .Append(characters.Count).Append(" beginbfchar\n");
        for (var i = 0; i < characters.Count; i++)
        {
            var utf16 = string.Concat(char.ConvertFromUtf32(characters[i]).Select(c => ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)));
            map.Append('<').Append((i + 1).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)).Append("> <").Append(utf16).Append(">\n");
        }

        map.Append("endbfchar\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        var content = $"BT /F1 14 Tf 40 780 Td <{codes}> Tj ET\nBT /F2 12 Tf 40 750 Td ({english}) Tj ET\n";
        string[] objects =
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 8 0 R >> >> /Contents 5 0 R >>",
            "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
            $"<< /Length {Encoding.ASCII.GetByteCount(content)} >>\nstream\n{content}endstream",
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 9 0 R /DW 1000 >>",
            $"<< /Length {Encoding.ASCII.GetByteCount(map.ToString())} >>\nstream\n{map}endstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 4 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >>",
        ];
        var pdf = new StringBuilder("%PDF-1.7\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(pdf.ToString()));
            pdf.Append(i + 1).Append(" 0 obj\n").Append(objects[i]).Append("\nendobj\n");
        }

        var xref = Encoding.ASCII.GetByteCount(pdf.ToString());
        pdf.Append("xref\n0 ").Append(objects.Length + 1).Append("\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            pdf.Append(offset.ToString("D10", System.Globalization.CultureInfo.InvariantCulture)).Append(" 00000 n \n");
        }

        pdf.Append("trailer\n<< /Size ").Append(objects.Length + 1).Append(" /Root 1 0 R >>\nstartxref\n").Append(xref).Append("\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }

    [Fact]
    public void A_pdf_with_chinese_text_gives_its_characters()
    {
        var pdf = ChinesePdf("英雄联盟的中路英雄需要控制兵线", "The rare word here is zanzibarite.");
        var extracted = TextExtractor.Extract("笔记.pdf", pdf);
        Assert.True(extracted.Text is not null, extracted.ErrorMessage);
        Assert.Contains("英雄联盟的中路英雄需要控制兵线", extracted.Text, StringComparison.Ordinal);
        Assert.Contains("zanzibarite", extracted.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("empty.pdf", "")]
    [InlineData("random.pdf", "\u0001\u0002 not a pdf at all")]
    [InlineData("empty.docx", "")]
    [InlineData("random.docx", "PK\u0003\u0004 not a zip")]
    public void Damaged_pdf_and_docx_files_are_invalid_files(string name, string content)
    {
        var extracted = TextExtractor.Extract(name, Encoding.UTF8.GetBytes(content));
        Assert.Null(extracted.Text);
        Assert.Equal("invalid_file", extracted.ErrorCode);
        Assert.False(string.IsNullOrWhiteSpace(extracted.ErrorMessage));
    }

    private async Task<string> ContentAsync(string storeId, string fileId)
    {
        using var content = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/vector_stores/{storeId}/files/{fileId}/content"));
        return string.Concat(content.RootElement.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Pdf_and_docx_files_are_indexed_by_their_text_and_damaged_ones_fail_with_a_reason()
    {
        var files = fixture.Files();
        var pdf = Pdf(["The jungle role controls objectives.", "The rare word here is quetzalcoatl."], ["Second page: ward the river with vexillology."]);
        var docx = Docx("英雄联盟的中路英雄需要控制兵线。", "The rare word here is zanzibarite.");
        OpenAIFile pdfFile = await files.UploadFileAsync(BinaryData.FromBytes(pdf), "notes.pdf", FileUploadPurpose.Assistants);
        OpenAIFile docxFile = await files.UploadFileAsync(BinaryData.FromBytes(docx), "笔记.docx", FileUploadPurpose.Assistants);
        OpenAIFile badPdf = await files.UploadFileAsync(BinaryData.FromBytes(Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage")), "broken.pdf", FileUploadPurpose.Assistants);
        var truncated = docx[..(docx.Length / 2)];
        OpenAIFile badDocx = await files.UploadFileAsync(BinaryData.FromBytes(truncated), "broken.docx", FileUploadPurpose.Assistants);

        var client = fixture.VectorStores();
        VectorStore store = await client.CreateVectorStoreAsync(new VectorStoreCreationOptions { FileIds = { pdfFile.Id, docxFile.Id, badPdf.Id, badDocx.Id } });
        for (var i = 0; i < 600 && store.FileCounts.InProgress > 0; i++)
        {
            await Task.Delay(100);
            store = await client.GetVectorStoreAsync(store.Id);
        }

        Assert.Equal(0, store.FileCounts.InProgress);
        Assert.Equal(2, store.FileCounts.Completed);
        Assert.Equal(2, store.FileCounts.Failed);

        var pdfText = await ContentAsync(store.Id, pdfFile.Id);
        Assert.Contains("quetzalcoatl", pdfText, StringComparison.Ordinal);
        Assert.Contains("vexillology", pdfText, StringComparison.Ordinal);
        Assert.Contains("jungle role controls objectives", pdfText, StringComparison.Ordinal);
        var docxText = await ContentAsync(store.Id, docxFile.Id);
        Assert.Contains("英雄联盟的中路英雄需要控制兵线。", docxText, StringComparison.Ordinal);
        Assert.Contains("zanzibarite", docxText, StringComparison.Ordinal);
        Assert.Contains("表格单元 cellword", docxText, StringComparison.Ordinal);

        foreach (var broken in new[] { badPdf, badDocx })
        {
            VectorStoreFile failed = await client.GetVectorStoreFileAsync(store.Id, broken.Id);
            Assert.Equal(VectorStoreFileStatus.Failed, failed.Status);
            Assert.Equal(VectorStoreFileErrorCode.InvalidFile, failed.LastError.Code);
            Assert.False(string.IsNullOrWhiteSpace(failed.LastError.Message));
        }

        // Each file's rare word finds that file first.
        foreach (var (word, fileId) in new[] { ("quetzalcoatl", pdfFile.Id), ("vexillology", pdfFile.Id), ("zanzibarite", docxFile.Id) })
        {
            using var response = await fixture.Server.Http.PostAsync($"/v1/vector_stores/{store.Id}/search",
                new StringContent(JsonSerializer.Serialize(new { query = word }), Encoding.UTF8, "application/json"));
            var results = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
            Assert.Equal(fileId, results[0].GetProperty("file_id").GetString());
        }

        // The server still serves.
        using var models = await fixture.Server.Http.GetAsync("/v1/models");
        Assert.True(models.IsSuccessStatusCode);
    }
}
