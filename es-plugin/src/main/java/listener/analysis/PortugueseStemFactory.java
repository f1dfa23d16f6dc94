package listener.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.pt.PortugueseLightStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Light Portuguese stemming, as PortugueseAnalyzer does. */
@NamedComponent("listener_stem_pt")
public final class PortugueseStemFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new PortugueseLightStemFilter(input);
    }
}
