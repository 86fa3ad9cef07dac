using Microsoft.AspNetCore.Components;

namespace FlashMall.Web.Components;

/// <summary>A page: the request's language, cascaded from <see cref="App"/>.</summary>
public abstract class PageBase : ComponentBase
{
    [CascadingParameter]
    public Texts T { get; set; } = Texts.English;
}
